/** The router's shutdown on its own: grace for requests in flight, then a stop, and idempotence. */
import { jest } from '@jest/globals';
import { Shutdown } from '../../../lib/proxy/shutdown.js';

describe('Shutdown', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('closes at once when nothing is in flight, and stops nothing', async () => {
    const shutdown = new Shutdown();
    const stopped = jest.fn();
    shutdown.onStop(stopped)(); // subscribed and gone again
    await shutdown.close(10_000);
    expect(shutdown.closing).toBe(true);
    expect(stopped).not.toHaveBeenCalled();
  });

  it('lets requests in flight finish within the grace period without stopping them', async () => {
    const shutdown = new Shutdown();
    const stopped = jest.fn();
    shutdown.enter();
    const unsubscribe = shutdown.onStop(stopped);
    let closed = false;
    void shutdown.close(10_000).then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(9_999);
    expect(closed).toBe(false);
    unsubscribe();
    shutdown.leave(); // the request finished in time
    await jest.advanceTimersByTimeAsync(0);
    expect(closed).toBe(true);
    expect(stopped).not.toHaveBeenCalled();
  });

  it('stops what is still running when the grace period ends, then waits for it to wind down', async () => {
    const shutdown = new Shutdown();
    shutdown.enter();
    let closed = false;
    const stop = jest.fn(() => setTimeout(() => shutdown.leave(), 50)); // the request winds down on its stop
    shutdown.onStop(stop);
    void shutdown.close(1_000).then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(closed).toBe(false);
    await jest.advanceTimersByTimeAsync(50);
    expect(closed).toBe(true);
    const late = jest.fn();
    shutdown.onStop(late); // after the stop: told at once
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('is idempotent: every call gets the first call’s promise and its grace period', async () => {
    const shutdown = new Shutdown();
    shutdown.enter();
    const first = shutdown.close(1_000);
    const second = shutdown.close(0);
    expect(second).toBe(first);
    await jest.advanceTimersByTimeAsync(999);
    shutdown.leave();
    await expect(first).resolves.toBeUndefined();
  });
});
