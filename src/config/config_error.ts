// The one error type of configuration: a message a user can act on (it names the key, the
// value and what was expected, and where it came from: file:line or --flag).

export class ConfigError extends Error {
  /** The zoo.cfg name of the key at fault, when there is one. */
  readonly key: string | undefined;

  constructor(message: string, key?: string) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }
}
