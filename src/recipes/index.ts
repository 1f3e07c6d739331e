// waitfree/recipes: coordination recipes built on waitfree/client (dist/recipes/index.js).

export { Lock, LockLease, type AcquireOptions, type LockOptions } from './lock.js';
export { ReadWriteLock } from './rw_lock.js';
export { Semaphore } from './semaphore.js';
export { LeaderLatch, type LatchState, type LatchListener } from './leader_latch.js';
export { LeaderSelector, type LeadershipTerm, type SelectorOptions } from './leader_selector.js';
export { GroupMember, groupMembers, watchMembers, type Members } from './group.js';
export { Barrier, DoubleBarrier, type BarrierWaitOptions } from './barrier.js';
export { DistributedQueue } from './queue.js';
export { SharedCounter, type CounterValue } from './counter.js';
export { NodeCache, type NodeSnapshot, type NodeCacheListener } from './node_cache.js';
export { TreeCache, type TreeNode, type TreeCacheEvent, type TreeCacheListener } from './tree_cache.js';
export {
  ServiceDiscovery,
  ServiceCache,
  ServiceProvider,
  ServiceRegistration,
  type ServiceInstance,
  type InstanceSpec,
} from './service_discovery.js';
export type { OwnershipState, LostReason, OwnershipListener } from './ownership.js';
export { sortedBySequence, sequenceAfter, type SequencedNode } from './sequence.js';
