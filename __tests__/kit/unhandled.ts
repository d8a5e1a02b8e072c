/** Makes every test of the calling file fail when an unhandled rejection or exception escaped during it. */
export function failOnUnhandledErrors(): void {
  let unhandled: unknown[] = [];
  const onUnhandled = (error: unknown) => unhandled.push(error);
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  });
  beforeEach(() => {
    unhandled = [];
  });
  afterEach(() => {
    expect(unhandled).toEqual([]);
  });
}
