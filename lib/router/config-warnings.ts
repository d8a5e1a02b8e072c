/**
 * Options that are valid but almost certainly not what the host meant: each is logged once, at
 * construction, at `warn`, rather than surfacing later as a 404 or 401 for every request.
 */
import { APIS } from '../apis/index.js';
import type { LogSink } from '../logging/logger.js';
import type { LlmProxyOptions } from './option-types.js';

export interface ConfigWarning {
  /** The option at fault, e.g. `providers[0].baseUrl`. */
  option: string;
  message: string;
}

/** Paths the proxy appends to a base URL itself: a base URL ending in one doubles it. */
const ENDPOINT_PATHS = [
  ...new Set(['/models', ...APIS.flatMap((api) => api.routes.flatMap((route) => (route.kind === 'proxy' && !/[:*]/.test(route.upstreamPath) ? [route.upstreamPath] : [])))]),
].sort((a, b) => b.length - a.length); // `/chat/completions` before `/completions`

function baseUrlWarning(baseUrl: string, where: string, type: unknown): ConfigWarning | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined; // validation has already refused it
  }
  const path = url.pathname.replace(/\/+$/, '');
  const endpoint = ENDPOINT_PATHS.find((candidate) => path.endsWith(candidate));
  if (endpoint !== undefined) {
    const base = `${url.origin}${path.slice(0, -endpoint.length)}`;
    return { option: where, message: `ends in ${endpoint}, which the proxy appends itself (requests would go to ${endpoint}${endpoint}); did you mean ${base}?` };
  }
  if (path === '') {
    // The proxy appends `/messages`, `/chat/completions`, … to the base URL as given: Anthropic's
    // SDK adds `/v1` itself, so its base URL (`https://api.anthropic.com`) is one path short here.
    const who = type === 'anthropic' ? "Anthropic's API needs" : 'OpenAI-compatible APIs usually need';
    return { option: where, message: `has no path; ${who} its version path, e.g. ${url.origin}/v1` };
  }
  return undefined;
}

/** The likely mistakes in `options` (a provider registry's lists are not looked at: they may change). */
export function configWarnings(options: LlmProxyOptions): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const { providers, apiKeys } = options;
  if (Array.isArray(providers)) {
    if (providers.length === 0) {
      warnings.push({ option: 'providers', message: 'is empty: every proxy request will be answered 404 model_not_found' });
    }
    providers.forEach((provider, i) => {
      if (Object.keys(provider.models).length === 0) {
        warnings.push({ option: `providers[${i}].models`, message: `is empty: provider ${JSON.stringify(provider.key)} serves no model` });
      }
      const warning = baseUrlWarning(provider.baseUrl, `providers[${i}].baseUrl`, (provider as { type?: unknown }).type);
      if (warning) warnings.push(warning);
    });
  }
  if (Array.isArray(apiKeys) && apiKeys.length === 0) {
    warnings.push({ option: 'apiKeys', message: 'is an empty list: every request to the proxy routes will be refused with 401; leave it out to accept requests without a key' });
  }
  return warnings;
}

/** Logs each warning once; a logger that throws must not stop the router from being made. */
export function warnAboutConfig(options: LlmProxyOptions, logger: LogSink): void {
  for (const { option, message } of configWarnings(options)) {
    try {
      logger.log('warn', `express-llm-proxy: option \`${option}\` ${message}`, { option });
    } catch {
      // contained
    }
  }
}

/**
 * The warning for a host whose body parser ran before the router, once per router: the parser's
 * own limit (100 kB for `express.json()`) and error pages answer before the proxy sees the request,
 * and the body is parsed and serialised again instead of forwarded as sent.
 */
export function hostParserWarning(logger: LogSink): () => void {
  let warned = false;
  return () => {
    if (warned) return;
    warned = true;
    try {
      logger.log(
        'warn',
        'express-llm-proxy: a body parser (such as express.json()) read the request before the router. Its limit (100kb by default) and its HTML error pages apply before the proxy sees the request, ' +
          'and the body is re-serialised instead of forwarded as sent. Mount the parser after the router, or only on the paths that need it (app.use("/api", express.json())).',
        {},
      );
    } catch {
      // contained
    }
  };
}
