/** A clock tests move by hand, for code that takes `now: () => number`. */
export function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}
