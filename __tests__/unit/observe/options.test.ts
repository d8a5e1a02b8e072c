/** The observability options fail fast, naming the option; good ones create their recorders in the host's registry only. */
import { Counter, Registry } from 'prom-client';
import { createLlmProxyRouter } from '../../../lib/index.js';
import { checkObservability } from '../../../lib/observe/options.js';
import { thrownBy } from '../../kit/thrown.js';

const providers = [{ id: 1, key: 'p', baseUrl: 'http://127.0.0.1:1/v1', models: { m: 'm' } }];
const quiet = { log: () => undefined };

describe('observability options', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['metrics with neither registry nor meter', { metrics: {} }, 'metrics', /registry.*meter/],
    ['metrics as a Registry itself', { metrics: 'registry' }, 'metrics', /must be an object/],
    ['metrics.registry not a Registry', { metrics: { registry: {} } }, 'metrics.registry', /prom-client Registry/],
    ['metrics.meter not a Meter', { metrics: { meter: { record() {} } } }, 'metrics.meter', /OpenTelemetry Meter/],
    ['tracing without a tracer', { tracing: {} }, 'tracing.tracer', /OpenTelemetry Tracer/],
    ['tracing.tracer not a Tracer', { tracing: { tracer: 1 } }, 'tracing.tracer', /OpenTelemetry Tracer/],
    ['hooks as a function', { hooks: () => undefined }, 'hooks', /must be an object/],
    ['hooks.onRequest not a function', { hooks: { onRequest: 'log' } }, 'hooks.onRequest', /function/],
    ['hooks.onFinish not a function', { hooks: { onFinish: {} } }, 'hooks.onFinish', /function/],
    ['logFields an object', { logFields: { tenant: 'a' } }, 'logFields', /function/],
    ['usage.includeInStreams a string', { usage: { includeInStreams: 'yes' } }, 'usage.includeInStreams', /boolean/],
    ['a misspelt key', { metrics: { registy: new Registry() } }, 'metrics.registy', /did you mean `metrics.registry`/],
    ['a hook name that does not exist', { hooks: { onError: () => undefined } }, 'hooks.onError', /is not an option/],
  ])('%s', (_name, options, option, message) => {
    const error = thrownBy(() => createLlmProxyRouter({ providers, logger: quiet, ...options } as never));
    expect(error).toMatchObject({ name: 'InvalidOptionError', option });
    expect(String(error.message)).toMatch(message);
  });

  it('a registry holding another metric of one of our names is refused, naming metrics.registry', () => {
    const registry = new Registry();
    new Counter({ name: 'llm_proxy_requests_total', help: 'not ours', registers: [registry] });
    const error = thrownBy(() => createLlmProxyRouter({ providers, logger: quiet, metrics: { registry } }));
    expect(error).toMatchObject({ name: 'InvalidOptionError', option: 'metrics.registry' });
    expect(String(error.message)).toMatch(/llm_proxy_requests_total/);
  });

  it.each([
    ['a bad hook', { hooks: { onFinish: 1 } }, /hooks.onFinish/],
    ['fetch and transport both (checked where the transport is made)', { fetch: globalThis.fetch, transport: async () => ({}) }, /option `fetch`/],
  ])('registers nothing while another option is bad: %s', async (_name, bad, message) => {
    const registry = new Registry();
    expect(() => createLlmProxyRouter({ providers, logger: quiet, metrics: { registry }, ...(bad as object) })).toThrow(message);
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });

  it('defaults: no recorders, no hooks, usage not asked for in streams', () => {
    expect(checkObservability({})()).toEqual({ metrics: undefined, tracing: undefined, hooks: { onRequest: undefined, onResponse: undefined, onFinish: undefined }, logFields: undefined, includeUsageInStreams: false });
  });
});
