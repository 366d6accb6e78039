// Starts the real servers the suite needs (filled in by the test-infrastructure work).
export default async function setup(): Promise<() => Promise<void>> {
  return async () => {};
}
