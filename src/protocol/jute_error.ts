/** A malformed or truncated jute record. The connection that sent it is closed. */
export class JuteError extends Error {
  override readonly name = 'JuteError';
}
