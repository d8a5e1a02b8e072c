/** Every API the router serves: one module each, one line here. */
import type { Api } from './api.js';
import { chatApi } from './chat.js';
import { completionsApi } from './completions.js';
import { embeddingsApi } from './embeddings.js';
import { modelsApi } from './models.js';

export const APIS: readonly Api[] = [chatApi, completionsApi, embeddingsApi, modelsApi];
