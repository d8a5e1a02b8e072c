/** A body read in chunks as one buffer: the chunk itself when there is one, else a copy of them all. */
export function joinChunks(chunks: readonly Buffer[], totalLength?: number): Buffer {
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, totalLength);
}
