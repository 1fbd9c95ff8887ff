/**
 * Orders the packages of a plan so that providers come before their
 * consumers (vocabulary in problem.ts). Pure.
 *
 * - Packages with the role `libc` come first, then `toolchain`, then the
 *   rest: everything else is linked against them (the glibc problem).
 * - Among packages free to go next, the order is by role, then by name, so
 *   the same plan always comes out in the same order.
 * - A dependency cycle (a strongly connected set) cannot be ordered; its
 *   members are placed together, by role and name, and the cycle is
 *   reported with the needs that the order breaks.
 */
import type { PackageRole } from './problem.js';

export interface GraphNode {
  name: string;
  role: PackageRole | undefined;
  /** Names of other nodes this one needs (its providers); others are ignored. */
  needs: readonly string[];
}

export interface GraphOrder {
  /** Providers first. */
  order: string[];
  /** Each cycle in words: `a needs b, b needs a: placed a, b (b was not in place when a was)`. */
  cycles: string[];
}

const ROLE_RANK: Record<PackageRole, number> = { libc: 0, toolchain: 1 };

function rank(node: GraphNode): number {
  return node.role === undefined ? 2 : ROLE_RANK[node.role];
}

function before(a: GraphNode, b: GraphNode): boolean {
  const ra = rank(a);
  const rb = rank(b);
  return ra !== rb ? ra < rb : a.name < b.name;
}

/**
 * Orders the nodes providers first; see the module comment. With
 * `consumersFirst` (removals), the order is reversed and cycles are worded
 * for it.
 */
export function orderGraph(nodes: readonly GraphNode[], consumersFirst = false): GraphOrder {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const needs = (node: GraphNode): GraphNode[] => {
    const out: GraphNode[] = [];
    for (const name of new Set(node.needs)) {
      const other = byName.get(name);
      if (other !== undefined && other !== node) out.push(other);
    }
    return out;
  };
  const components = stronglyConnected(nodes, needs);
  const componentOf = new Map<GraphNode, number>();
  components.forEach((members, i) => {
    members.sort((a, b) => (before(a, b) ? -1 : 1));
    for (const member of members) componentOf.set(member, i);
  });
  // Component graph: count, per component, the distinct providers it still waits for.
  const waiting = new Array<number>(components.length).fill(0);
  const consumers: number[][] = components.map(() => []);
  components.forEach((members, i) => {
    const providers = new Set<number>();
    for (const member of members)
      for (const provider of needs(member)) {
        const j = componentOf.get(provider) as number;
        if (j !== i) providers.add(j);
      }
    waiting[i] = providers.size;
    for (const j of providers) consumers[j]?.push(i);
  });
  const heap = new Heap<number>((a, b) => before(components[a]?.[0] as GraphNode, components[b]?.[0] as GraphNode));
  waiting.forEach((count, i) => {
    if (count === 0) heap.push(i);
  });
  const order: string[] = [];
  const cycles: string[] = [];
  for (let next = heap.pop(); next !== undefined; next = heap.pop()) {
    const members = components[next] as GraphNode[];
    for (const member of members) order.push(member.name);
    if (members.length > 1)
      cycles.push(describeCycle(consumersFirst ? members.slice().reverse() : members, needs, consumersFirst));
    for (const consumer of consumers[next] ?? []) {
      waiting[consumer] = (waiting[consumer] ?? 0) - 1;
      if (waiting[consumer] === 0) heap.push(consumer);
    }
  }
  if (order.length !== nodes.length) throw new Error('Assertion failed: the component graph has a cycle');
  return { order: consumersFirst ? order.reverse() : order, cycles };
}

function describeCycle(
  members: readonly GraphNode[],
  needs: (node: GraphNode) => GraphNode[],
  consumersFirst: boolean,
): string {
  const inCycle = new Set(members);
  const position = new Map(members.map((member, i) => [member, i]));
  const edges: string[] = [];
  const broken: string[] = [];
  for (const member of members) {
    for (const provider of needs(member)) {
      if (!inCycle.has(provider)) continue;
      edges.push(`${member.name} needs ${provider.name}`);
      const providerFirst = (position.get(provider) as number) < (position.get(member) as number);
      if (!consumersFirst && !providerFirst)
        broken.push(`${member.name} is placed before ${provider.name}, which it needs`);
      if (consumersFirst && providerFirst)
        broken.push(`${provider.name} is removed before ${member.name}, which needs it`);
    }
  }
  return `cycle: ${edges.join(', ')}; ${consumersFirst ? 'removed' : 'placed'} in the order ${members.map((m) => m.name).join(', ')}, so ${broken.join('; ')}`;
}

/** Tarjan's algorithm, iterative; components come out in no particular order. */
function stronglyConnected(nodes: readonly GraphNode[], needs: (node: GraphNode) => GraphNode[]): GraphNode[][] {
  const index = new Map<GraphNode, number>();
  const low = new Map<GraphNode, number>();
  const onStack = new Set<GraphNode>();
  const stack: GraphNode[] = [];
  const components: GraphNode[][] = [];
  let counter = 0;
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { node: GraphNode; edges: GraphNode[]; next: number }[] = [];
    const enter = (node: GraphNode): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: needs(node), next: 0 });
    };
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: GraphNode; edges: GraphNode[]; next: number };
      if (frame.next < frame.edges.length) {
        const other = frame.edges[frame.next++] as GraphNode;
        if (!index.has(other)) enter(other);
        else if (onStack.has(other))
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(other) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined)
        low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: GraphNode[] = [];
        for (;;) {
          const member = stack.pop() as GraphNode;
          onStack.delete(member);
          component.push(member);
          if (member === frame.node) break;
        }
        components.push(component);
      }
    }
  }
  return components;
}

/** A binary min-heap under `less`. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i] as T, items[parent] as T)) break;
      [items[i], items[parent]] = [items[parent] as T, items[i] as T];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.less(items[left] as T, items[smallest] as T)) smallest = left;
        if (right < items.length && this.less(items[right] as T, items[smallest] as T)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest] as T, items[i] as T];
        i = smallest;
      }
    }
    return top;
  }
}
