/**
 * The public surface of every entry, pinned: a change to what a host can import is deliberate.
 * Runtime names are compared exactly; the documented types are checked by compiling this file.
 */
import * as errors from '../../lib/errors/index.js';
import * as health from '../../lib/health/index.js';
import * as main from '../../lib/index.js';
import type {
  ApiKeys,
  BreakerOptions,
  ClientWatch,
  CloseOptions,
  FetchLike,
  HealthCheckConfig,
  HealthRoutingOptions,
  LlmProxyOptions,
  LlmProxyRouter,
  LogSink,
  ModelMapping,
  PipeSseOptions,
  ProviderConfig,
  ProviderRegistry,
  RateLimitOptions,
  RateLimits,
  RetryOptions,
  TimeoutOptions,
  UndiciTransportOptions,
  UpstreamRequest,
  UpstreamResponse,
  UpstreamTransport,
} from '../../lib/index.js';
import * as redis from '../../lib/redis/index.js';
import type { RedisStoreOptions, StateStore } from '../../lib/redis/index.js';
import type { StateStore as MainStateStore } from '../../lib/index.js';

const names = (entry: object) => Object.keys(entry).sort();

describe('exports', () => {
  it('express-llm-proxy: the router, transports, the SSE pipe, the request logger, errors, health and the memory store', () => {
    expect(names(main)).toEqual([
      'ClientClosedRequestError',
      'HealthCheckError',
      'HealthCheckService',
      'InvalidOptionError',
      'LlmProxyError',
      'MemoryStore',
      'RegistryUnavailableError',
      'UpstreamResponseTooLargeError',
      'UpstreamTimeoutError',
      'classifyError',
      'createFetchTransport',
      'createHealthRouter',
      'createLlmProxyRouter',
      'createUndiciTransport',
      'pipeSse',
      'requestLogger',
    ]);
  });

  it('express-llm-proxy/errors: the classifier and the error classes', () => {
    expect(names(errors)).toEqual([
      'ClientClosedRequestError',
      'InvalidOptionError',
      'LlmProxyError',
      'RegistryUnavailableError',
      'UpstreamResponseTooLargeError',
      'UpstreamTimeoutError',
      'classifyError',
    ]);
  });

  it('express-llm-proxy/health: the service and its error', () => {
    expect(names(health)).toEqual(['HealthCheckError', 'HealthCheckService']);
  });

  it('express-llm-proxy/redis: the store factory', () => {
    expect(names(redis)).toEqual(['createRedisStore']);
  });

  it('keeps internals out of the main entry', () => {
    for (const internal of ['CircuitBreakers', 'WeightedRoundRobin', 'ProviderIndex', 'createIndexSource', 'decodeBody', 'requestContext', 'requestState', 'buildLogEntry', 'sendOpenAiError', 'HttpError']) {
      expect(main).not.toHaveProperty(internal);
    }
  });

  it('exports the documented types (this file compiles only if they exist)', () => {
    const options: LlmProxyOptions = { providers: [] satisfies ProviderConfig[] };
    const types: [ApiKeys?, BreakerOptions?, ClientWatch?, CloseOptions?, FetchLike?, HealthCheckConfig?, HealthRoutingOptions?, LlmProxyRouter?, LogSink?, ModelMapping?, PipeSseOptions?, ProviderRegistry?, RetryOptions?, TimeoutOptions?, UndiciTransportOptions?, UpstreamRequest?, UpstreamResponse?, UpstreamTransport?, RedisStoreOptions?, StateStore?, MainStateStore?, RateLimitOptions?, RateLimits?] = [];
    expect(options.providers).toEqual([]);
    expect(types).toEqual([]);
  });
});
