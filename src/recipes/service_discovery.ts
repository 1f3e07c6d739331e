// Service discovery (after Curator's x-discovery): an instance registers as an ephemeral node
// <base>/<service>/<instance id> holding its description as JSON (Curator's field names), so it
// disappears when its process's session ends. Clients query the registry directly or keep a
// ServiceCache (a TreeCache of one service) and pick instances with a provider strategy.

import { randomUUID } from 'node:crypto';
import { isZooKeeperError, type ZooKeeperClient } from '../client/index.js';
import { createUnder } from './ensure_path.js';
import { Ownership, type LostReason, type OwnershipState } from './ownership.js';
import { childPath } from './sequence.js';
import { TreeCache } from './tree_cache.js';

export interface ServiceInstance<P = unknown> {
  name: string;
  id: string;
  address: string;
  port: number;
  payload: P | null;
  registrationTimeUTC: number;
  serviceType: 'DYNAMIC';
}

export interface InstanceSpec<P = unknown> {
  name: string;
  /** Default: a random UUID. */
  id?: string;
  address: string;
  port: number;
  payload?: P;
}

function checkName(what: string, s: string): void {
  if (s === '' || s.includes('/')) throw new Error(`bad ${what} ${JSON.stringify(s)}`);
}

function parseInstance<P>(data: Buffer | null): ServiceInstance<P> | null {
  if (data === null) return null;
  try {
    return JSON.parse(data.toString('utf8')) as ServiceInstance<P>;
  } catch {
    return null;
  }
}

export class ServiceRegistration<P = unknown> {
  private readonly ownership: Ownership;
  constructor(
    private readonly client: ZooKeeperClient,
    readonly instance: ServiceInstance<P>,
    readonly path: string,
  ) {
    this.ownership = new Ownership(client);
  }
  /** 'held' while registered; 'lost' once the session is gone (the node went with it). */
  get state(): OwnershipState {
    return this.ownership.state;
  }
  get lost(): Promise<LostReason> {
    return this.ownership.lost;
  }
  async unregister(): Promise<void> {
    this.ownership.markReleased();
    try {
      await this.client.delete(this.path, -1);
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE', 'SESSIONEXPIRED')) throw e;
    }
  }
}

export class ServiceDiscovery {
  constructor(
    private readonly client: ZooKeeperClient,
    readonly basePath: string,
  ) {}

  async register<P>(spec: InstanceSpec<P>): Promise<ServiceRegistration<P>> {
    checkName('service name', spec.name);
    const instance: ServiceInstance<P> = {
      name: spec.name,
      id: spec.id ?? randomUUID(),
      address: spec.address,
      port: spec.port,
      payload: spec.payload ?? null,
      registrationTimeUTC: Date.now(),
      serviceType: 'DYNAMIC',
    };
    checkName('instance id', instance.id);
    const dir = childPath(this.basePath, spec.name);
    await this.client.mkdirp(this.basePath);
    const path = childPath(dir, instance.id);
    await createUnder(this.client, dir, () => this.client.create(path, JSON.stringify(instance), { mode: 'ephemeral' }));
    return new ServiceRegistration(this.client, instance, path);
  }

  async queryForNames(): Promise<string[]> {
    try {
      return (await this.client.getChildren(this.basePath)).sort();
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) return [];
      throw e;
    }
  }

  async queryForInstances<P = unknown>(name: string): Promise<ServiceInstance<P>[]> {
    const dir = childPath(this.basePath, name);
    let ids: string[];
    try {
      ids = await this.client.getChildren(dir);
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) return [];
      throw e;
    }
    const found = await Promise.all(ids.map((id) => this.queryForInstance<P>(name, id)));
    return found.filter((i): i is ServiceInstance<P> => i !== null).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async queryForInstance<P = unknown>(name: string, id: string): Promise<ServiceInstance<P> | null> {
    try {
      return parseInstance<P>((await this.client.getData(childPath(childPath(this.basePath, name), id))).data);
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) return null;
      throw e;
    }
  }

  /** A live view of one service's instances. Call start() before use. */
  serviceCache<P = unknown>(name: string): ServiceCache<P> {
    return new ServiceCache<P>(this.client, childPath(this.basePath, name));
  }

  /** Picks instances of one service from a ServiceCache. Call start() before use. */
  provider<P = unknown>(name: string, strategy: 'roundRobin' | 'random' = 'roundRobin'): ServiceProvider<P> {
    return new ServiceProvider<P>(this.serviceCache<P>(name), strategy);
  }
}

export class ServiceCache<P = unknown> {
  private readonly tree: TreeCache;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly dir: string,
  ) {
    this.tree = new TreeCache(client, dir);
  }

  async start(): Promise<void> {
    const slash = this.dir.lastIndexOf('/');
    if (slash > 0) await this.client.mkdirp(this.dir.slice(0, slash));
    await this.tree.start();
  }

  /** Instances now, sorted by id. */
  instances(): ServiceInstance<P>[] {
    const out: ServiceInstance<P>[] = [];
    for (const id of this.tree.children(this.dir)) {
      const inst = parseInstance<P>(this.tree.get(childPath(this.dir, id))?.data ?? null);
      if (inst !== null) out.push(inst);
    }
    return out;
  }

  /** Called after every change of the instance set or of an instance. */
  listen(listener: (instances: ServiceInstance<P>[]) => void): () => void {
    return this.tree.listen((e) => {
      if (e.path !== this.dir) listener(this.instances());
    });
  }

  settled(): Promise<void> {
    return this.tree.settled();
  }

  close(): Promise<void> {
    return this.tree.close();
  }
}

export class ServiceProvider<P = unknown> {
  private next = 0;
  constructor(
    readonly cache: ServiceCache<P>,
    private readonly strategy: 'roundRobin' | 'random',
  ) {}

  start(): Promise<void> {
    return this.cache.start();
  }

  /** One instance by the strategy, or null when none is registered. */
  getInstance(): ServiceInstance<P> | null {
    const all = this.cache.instances();
    if (all.length === 0) return null;
    if (this.strategy === 'random') return all[Math.floor(Math.random() * all.length)]!;
    return all[this.next++ % all.length]!;
  }

  getAllInstances(): ServiceInstance<P>[] {
    return this.cache.instances();
  }

  close(): Promise<void> {
    return this.cache.close();
  }
}
