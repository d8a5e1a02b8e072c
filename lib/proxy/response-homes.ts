/**
 * Which provider holds each response of a stateful API (Responses): remembered as the proxy
 * passes a created response on, in the router's `StateStore` (bounded, entries expire), and
 * looked up when a request continues or fetches one.
 */
import type { ProviderIndex } from '../registry/provider-index.js';
import type { ResolvedProvider } from '../registry/types.js';
import type { StateStore } from '../state/types.js';

export class ResponseHomes {
  constructor(
    private readonly store: StateStore,
    /** How long an id is remembered (`responses.rememberMs`). */
    private readonly rememberMs: number,
  ) {}

  remember(responseId: string, providerKey: string): void {
    this.store.remember(responseId, providerKey, this.rememberMs);
  }

  /**
   * The enabled provider that created `responseId`, or undefined when the id is unknown (or its
   * provider has since been removed or disabled). The shared copy is asked once on a local miss.
   */
  async find(responseId: string, index: ProviderIndex): Promise<ResolvedProvider | undefined> {
    const key = this.store.recall(responseId) ?? (await this.store.recallRemote(responseId));
    const provider = key === undefined ? undefined : index.byKey(key);
    return provider?.enabled ? provider : undefined;
  }
}
