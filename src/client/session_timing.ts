// The client's clocks, derived from the session timeout as ZooKeeper's ClientCnxn does:
// - readTimeout = 2/3 of the negotiated timeout: no byte from the server for that long means the
//   connection is dead (the remaining third is left to find another server);
// - a ping goes out when nothing was sent for readTimeout/2 (at most every 10 s);
// - a connect attempt (TCP + handshake) may take sessionTimeout / #hosts, so trying every host
//   once fits in one session timeout.

export const PING_INTERVAL_MS_MAX = 10_000;

export interface SessionTiming {
  read_timeout_ms: number;
  ping_interval_ms: number;
  connect_timeout_ms: number;
}

export function sessionTiming(session_timeout_ms: number, host_count: number): SessionTiming {
  if (!(session_timeout_ms > 0)) throw new Error(`session timeout must be > 0: ${session_timeout_ms}`);
  if (!(host_count > 0)) throw new Error(`host count must be > 0: ${host_count}`);
  const read_timeout_ms = Math.floor((session_timeout_ms * 2) / 3);
  return {
    read_timeout_ms,
    ping_interval_ms: Math.min(Math.floor(read_timeout_ms / 2), PING_INTERVAL_MS_MAX),
    connect_timeout_ms: Math.max(1, Math.floor(session_timeout_ms / host_count)),
  };
}
