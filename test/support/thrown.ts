// The error a call throws, typed, for tests that look at its fields (a ConfigError's key, a
// JaasSyntaxError's line). Anything else thrown is rethrown; nothing thrown fails the test.

export function thrownBy<E extends Error>(f: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    f();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}
