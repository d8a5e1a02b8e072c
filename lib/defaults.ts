/**
 * Every default the library applies, in one place: the router's options, the health service,
 * the admin routes' request fields and the transport all read them from here.
 */

export const DEFAULT_TIMEOUTS = {
  // Ten minutes, as the openai SDK's own default: long enough for a reasoning model to think.
  requestMs: 600_000,
  ttftMs: 300_000,
  streamIdleMs: 300_000,
} as const;

/** SSE keep-alive comment after this much upstream silence. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Largest request body: large enough for image inputs. */
export const DEFAULT_BODY_LIMIT = 20 * 1024 * 1024;

export const DEFAULT_RETRY = {
  maxAttempts: 2,
  // 529: Anthropic's "overloaded".
  onStatus: [429, 502, 503, 504, 529] as readonly number[],
  sameProvider: false,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
};

export const DEFAULT_BREAKER = {
  failureThreshold: 3,
  cooldownMs: 30_000,
  maxCooldownMs: 300_000,
};

/** Health checks: per probe, probes in flight, and how long an unhealthy mark steers routing. */
export const DEFAULT_HEALTH = {
  timeoutMs: 30_000,
  maxConcurrent: 2,
  /** The most probes in flight a caller may ask for. */
  maxConcurrentLimit: 10,
  staleMs: 600_000,
};

/** The admin routes' request fields, in the units the routes take them. */
export const ADMIN_CHECK_LIMITS = {
  maxConcurrent: { min: 1, max: DEFAULT_HEALTH.maxConcurrentLimit, default: DEFAULT_HEALTH.maxConcurrent },
  timeoutSecs: { min: 1, max: 120, default: DEFAULT_HEALTH.timeoutMs / 1000 },
} as const;

/** How long the default transport keeps an idle upstream socket. */
export const DEFAULT_KEEP_ALIVE_MS = 30_000;

/** How long `router.close()` lets in-flight requests finish. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;

/** The most the proxy reads of an answer it holds whole (compressed or error answers): far above any chat or embeddings answer, far below what a decompression bomb decodes to. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** How long a provider registry's `list()` may take before a request gets a 503. */
export const DEFAULT_REGISTRY_TIMEOUT_MS = 10_000;

/** The `anthropic-version` an `anthropic` provider gets when the client sent none (what Claude Code and the AI SDK send). */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

/** Which provider holds each Responses API response: how many ids are remembered, and for how long. */
export const DEFAULT_RESPONSES = {
  maxRemembered: 10_000,
  rememberMs: 24 * 60 * 60 * 1000,
};
