import { AbortSource, requestWithSource } from '../../../lib/transport/abort-source.js';

const base = { url: 'http://127.0.0.1:1/v1/chat/completions', method: 'POST' as const, headers: {}, body: Buffer.from('{}') };

describe('AbortSource', () => {
  it('aborts once, keeping the first reason', () => {
    const source = new AbortSource();
    const heard: unknown[] = [];
    source.on('abort', () => heard.push(source.reason));
    const first = new Error('first');
    source.abort(first);
    source.abort(new Error('second'));
    expect(source.aborted).toBe(true);
    expect(heard).toEqual([first]);
  });

  it('makes a WHATWG signal only on demand, and it follows a later abort', () => {
    const source = new AbortSource();
    const signal = source.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(source.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    const reason = new Error('gone');
    source.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });

  it('gives an already aborted signal when asked after the abort', () => {
    const source = new AbortSource();
    const reason = new Error('late');
    source.abort(reason);
    expect(source.signal.aborted).toBe(true);
    expect(source.signal.reason).toBe(reason);
  });
});

describe('requestWithSource', () => {
  it('carries the cheap source as `abort` and makes a real signal tied to it for fetch', () => {
    const source = new AbortSource();
    const request = requestWithSource(base, source);
    expect(request.abort).toBe(source);
    expect({ url: request.url, method: request.method, body: request.body }).toEqual({ url: base.url, method: 'POST', body: base.body });
    const { signal } = request; // what a fetch transport destructures
    source.abort(new Error('timeout'));
    expect(signal.aborted).toBe(true);
  });
});
