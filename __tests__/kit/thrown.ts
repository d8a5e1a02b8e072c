/** What `fn` throws, to look at its fields (an `InvalidOptionError`'s `option`, say); fails the test when it throws nothing. */
export function thrownBy(fn: () => unknown): Record<string, unknown> & { name?: string; option?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as Record<string, unknown> & { name?: string; option?: string; message: string };
  }
  throw new Error('expected a throw');
}
