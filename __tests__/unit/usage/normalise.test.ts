/** The normalisers, row by row: each API's usage object to Usage, optional counts only when sent. */
import { usageFromChat, usageFromEmbeddings, usageFromMessages, usageFromResponses } from '../../../lib/usage/normalise.js';
import type { Usage, UsageNormaliser } from '../../../lib/usage/types.js';

const rows: Array<[string, UsageNormaliser, unknown, Usage | undefined]> = [
  ['chat, full', usageFromChat, { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29, prompt_tokens_details: { cached_tokens: 6 }, completion_tokens_details: { reasoning_tokens: 2 } }, { input_tokens: 19, output_tokens: 10, total_tokens: 29, cached_input_tokens: 6, reasoning_tokens: 2 }],
  ['chat, zero details are reported as zero', usageFromChat, { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } }, { input_tokens: 1, output_tokens: 2, total_tokens: 3, cached_input_tokens: 0, reasoning_tokens: 0 }],
  ['chat, no details, no total', usageFromChat, { prompt_tokens: 4, completion_tokens: 5 }, { input_tokens: 4, output_tokens: 5, total_tokens: 9 }],
  ['chat, total as sent even when it is not the sum', usageFromChat, { prompt_tokens: 4, completion_tokens: 5, total_tokens: 12 }, { input_tokens: 4, output_tokens: 5, total_tokens: 12 }],
  ['chat, null details', usageFromChat, { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9, prompt_tokens_details: null }, { input_tokens: 4, output_tokens: 5, total_tokens: 9 }],
  ['chat, no counts', usageFromChat, { total_tokens: 9 }, undefined],
  ['chat, counts that are not numbers', usageFromChat, { prompt_tokens: '4', completion_tokens: -1 }, undefined],
  ['chat, null', usageFromChat, null, undefined],
  ['chat, array', usageFromChat, [1, 2], undefined],
  ['embeddings', usageFromEmbeddings, { prompt_tokens: 8, total_tokens: 8 }, { input_tokens: 8, output_tokens: 0, total_tokens: 8 }],
  ['embeddings, no total', usageFromEmbeddings, { prompt_tokens: 8 }, { input_tokens: 8, output_tokens: 0, total_tokens: 8 }],
  ['embeddings, no prompt_tokens', usageFromEmbeddings, { total_tokens: 8 }, undefined],
  ['responses, full', usageFromResponses, { input_tokens: 36, input_tokens_details: { cached_tokens: 4 }, output_tokens: 87, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 123 }, { input_tokens: 36, output_tokens: 87, total_tokens: 123, cached_input_tokens: 4, reasoning_tokens: 64 }],
  ['responses, chat field names are not read', usageFromResponses, { prompt_tokens: 1, completion_tokens: 2 }, undefined],
  ['messages, full', usageFromMessages, { input_tokens: 12, cache_creation_input_tokens: 3, cache_read_input_tokens: 4, output_tokens: 6, service_tier: 'standard' }, { input_tokens: 12, output_tokens: 6, total_tokens: 18, cached_input_tokens: 4 }],
  ['messages, no cache read', usageFromMessages, { input_tokens: 12, output_tokens: 6 }, { input_tokens: 12, output_tokens: 6, total_tokens: 18 }],
  ['messages, a total is not taken from the upstream', usageFromMessages, { input_tokens: 12, output_tokens: 6, total_tokens: 99 }, { input_tokens: 12, output_tokens: 6, total_tokens: 18 }],
];

test.each(rows)('%s', (_name, normalise, input, expected) => {
  const result = normalise(input);
  expect(result).toEqual(expected);
  if (result) expect(Object.keys(result).sort()).toEqual(Object.keys(expected!).sort()); // no undefined-valued extras
});
