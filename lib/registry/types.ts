/** Provider configuration, as hosts write it. */

/** The APIs a provider can serve. */
export type ProviderApi = 'chat' | 'completions' | 'embeddings' | 'responses' | 'messages';

/** How the proxy authenticates upstream: OpenAI's `Authorization: Bearer`, or Anthropic's `x-api-key`. */
export type ProviderType = 'openai' | 'anthropic';

/** What a health probe sends (see probe-modes.ts for each one's request). */
export type ProbeMode = 'chat' | 'embedding' | 'completion' | 'messages' | 'responses';

/** How a health probe talks to one model (see the health service). */
export interface HealthCheckConfig {
  /**
   * `chat` probes `/chat/completions`, `embedding` `/embeddings`, `completion` `/completions`,
   * `messages` `/messages`, `responses` `/responses`. Default `chat`, or `messages` for an
   * `anthropic` provider.
   */
  mode?: ProbeMode;
  /** Replaces the probe body; the proxy still sets `model`. */
  body?: Record<string, unknown>;
}

/** A `models` value: the upstream name, or the name with health-check settings. */
export type ModelMapping = string | { model: string; healthCheck?: HealthCheckConfig };

export interface ProviderConfig {
  /** Unique id; a number stays a number in reports. */
  id: string | number;
  /** Unique short name used in logs and headers. */
  key: string;
  /** Base URL including the version path, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /**
   * Decides upstream auth: `openai` sends `Authorization: Bearer <apiKey>`; `anthropic` sends
   * `x-api-key: <apiKey>` and `anthropic-version` (the client's, else `2023-06-01`). Default `openai`.
   */
  type?: ProviderType | undefined;
  /**
   * The APIs this provider serves; a request only goes to providers whose `apis` include its API.
   * Default: `openai` → chat, completions, embeddings, responses; `anthropic` → messages.
   */
  apis?: readonly ProviderApi[] | undefined;
  /** Sent upstream as `Authorization: Bearer <apiKey>` (`x-api-key` for an `anthropic` provider). */
  apiKey?: string | undefined;
  /** Client-facing model name → upstream model name (or `{ model, healthCheck }`). */
  models: Record<string, ModelMapping>;
  /** Smooth weighted round-robin weight; `0` takes the provider out of rotation. Default 1. */
  weight?: number | undefined;
  /** Default true. */
  enabled?: boolean | undefined;
  /** Extra headers sent on every upstream request. */
  headers?: Record<string, string> | undefined;
  /** Provider-wide health probe settings (`body` applies to every model). */
  healthCheck?: { body?: Record<string, unknown> } | undefined;
}

/**
 * Where provider configs come from. Only `list()` is required, so a host can back it with its
 * own database; lookup and weighted selection are derived from what it returns.
 */
export interface ProviderRegistry {
  list(): readonly ProviderConfig[] | Promise<readonly ProviderConfig[]>;
}

/** A provider config with defaults applied and a parsed base URL. */
export interface ResolvedProvider {
  readonly id: string | number;
  readonly key: string;
  readonly baseUrl: string;
  readonly type: ProviderType;
  readonly apis: ReadonlySet<ProviderApi>;
  readonly apiKey: string | undefined;
  readonly weight: number;
  readonly enabled: boolean;
  readonly headers: Readonly<Record<string, string>>;
  /** Client-facing name → resolved mapping, in the config's order. */
  readonly models: ReadonlyMap<string, ResolvedModel>;
  readonly healthCheck: { body?: Record<string, unknown> } | undefined;
}

export interface ResolvedModel {
  readonly upstream: string;
  readonly healthCheck: HealthCheckConfig | undefined;
}
