// What the admin HTTP server answers, whichever backend carries the bytes (uWebSockets.js in
// the net worker, or native-free/'s node:http twin): GET /commands (an index), GET
// /commands/<name> (JSON, admin/commands.ts), GET /metrics (Prometheus text). Runs on the
// supervisor, which holds the workers' stats and every SAB; the net worker only forwards
// (method, url) and writes the answer back.

import { EXPOSITION_CONTENT_TYPE } from '../../metrics/exposition.js';
import type { ServerStats, StatsPart } from '../four_letter.js';
import {
  ADMIN_COMMANDS,
  adminCommand,
  answersNow,
  commandResponse,
  NOT_SERVING,
  type AdminActions,
  type AdminArgs,
  type AdminFacts,
  type JsonObject,
} from './commands.js';
import { toJson } from './json.js';

export interface HttpAnswer {
  status: number;
  content_type: string;
  body: string;
}

/** What answering needs from the running server. */
export interface AdminDeps {
  /** One snapshot of every worker's stats (the four-letter words' gathering), with the costly
   *  parts in `needs` (none: the counters only). */
  stats(needs?: readonly StatsPart[]): Promise<ServerStats>;
  facts(): AdminFacts;
  /** What srst, crst and stmk change. */
  actions: AdminActions;
  /** The Prometheus exposition; gets the stats snapshot for ZooKeeper's gauges. */
  metrics(stats: ServerStats): string;
}

export const COMMANDS_PREFIX = '/commands';
export const METRICS_PATH = '/metrics';
const JSON_TYPE = 'application/json';

function json(status: number, value: Parameters<typeof toJson>[0]): HttpAnswer {
  return { status, content_type: JSON_TYPE, body: toJson(value) + '\n' };
}

function text(status: number, body: string): HttpAnswer {
  return { status, content_type: 'text/plain; charset=utf-8', body };
}

/** ZooKeeper's /commands page: a link per primary name. */
function commandIndex(): HttpAnswer {
  const links = ADMIN_COMMANDS.map((c) => `<a href="${COMMANDS_PREFIX}/${c.names[0]}">${c.names[0]}</a><br/>`);
  return { status: 200, content_type: 'text/html; charset=utf-8', body: `<h1>Commands</h1>\n${links.join('\n')}\n` };
}

async function runCommand(name: string, args: AdminArgs, deps: AdminDeps): Promise<HttpAnswer> {
  const cmd = adminCommand(name);
  if (cmd === undefined) return json(404, commandResponse(name, `Unknown command: ${name}`));
  const primary = cmd.names[0];
  if (cmd.kind === 'facts') return json(200, commandResponse(primary, null, cmd.run(deps.facts())));
  const needs_serving = cmd.kind === 'action' ? cmd.server_required : true;
  let stats: ServerStats | null = null;
  if (needs_serving) {
    try {
      stats = await deps.stats(cmd.kind === 'stats' ? cmd.needs : []);
    } catch (e) {
      return json(503, commandResponse(primary, `${NOT_SERVING}: ${e instanceof Error ? e.message : String(e)}`));
    }
    if (!answersNow(cmd.kind === 'stats' ? cmd.answers_when : undefined, stats)) return json(503, commandResponse(primary, NOT_SERVING));
  }
  if (cmd.kind === 'action') return actionAnswer(primary, await cmd.run(deps.actions, args));
  if (stats === null) throw new Error(`${primary}: no stats gathered`);
  return json(200, commandResponse(primary, null, cmd.run(stats)));
}

/** An action's answer: its "error" entry, if it set one, is a 400 (a bad argument). */
function actionAnswer(primary: string, data: JsonObject): HttpAnswer {
  const error = typeof data['error'] === 'string' ? data['error'] : null;
  return json(error === null ? 200 : 400, commandResponse(primary, error, data));
}

/** The query arguments of a request target (`?traceMask=12`); the last of a repeated name wins. */
function argsOf(url: string): AdminArgs {
  const q = url.indexOf('?');
  if (q === -1) return new Map();
  try {
    return new Map(new URLSearchParams(url.slice(q + 1)));
  } catch {
    return new Map();
  }
}

async function metrics(deps: AdminDeps): Promise<HttpAnswer> {
  let stats: ServerStats;
  try {
    stats = await deps.stats(['quotas']);
  } catch (e) {
    return text(503, `${NOT_SERVING}: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  return { status: 200, content_type: EXPOSITION_CONTENT_TYPE, body: deps.metrics(stats) };
}

/** The path part of a request target, percent-decoded; null if it cannot be decoded. */
function pathOf(url: string): string | null {
  const q = url.indexOf('?');
  try {
    return decodeURIComponent(q === -1 ? url : url.slice(0, q));
  } catch {
    return null;
  }
}

/**
 * Every request gets an answer: a failure while answering (a command's formatter, the
 * exposition refusing a name) is a 500 naming it, never a request left open or a rejected
 * promise on the supervisor.
 */
export async function answerAdminHttp(method: string, url: string, deps: AdminDeps): Promise<HttpAnswer> {
  try {
    return await route(method, url, deps);
  } catch (e) {
    return text(500, `internal error answering ${url}: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}

async function route(method: string, url: string, deps: AdminDeps): Promise<HttpAnswer> {
  const m = method.toUpperCase();
  if (m !== 'GET') return text(405, `${m} not allowed: the admin server answers GET\n`);
  const path = pathOf(url);
  if (path === null) return text(400, 'bad request target\n');
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === METRICS_PATH) return metrics(deps);
  if (trimmed === COMMANDS_PREFIX) return commandIndex();
  if (trimmed.startsWith(`${COMMANDS_PREFIX}/`)) return runCommand(trimmed.slice(COMMANDS_PREFIX.length + 1), argsOf(url), deps);
  return text(404, `not found: ${path} (try ${COMMANDS_PREFIX} or ${METRICS_PATH})\n`);
}
