/**
 * The cloud-neutral half of `npm run diagrams`: from one synthesized stack (its resources, the references between
 * them, and what each identity may read or write) to a diagram of the resources a reader cares about, grouped by the
 * construct they belong to, with the data flow as edges. The clouds' halves (aws.ts, gcp.ts) only read their
 * template format into a `StackModel` and say, in a table, which resource types are drawn and which references mean
 * flow (a `Vocabulary`).
 */

/** One resource of a synthesized stack. */
export interface ModelResource {
  /** Logical id (CloudFormation) or `type.name` (Terraform). */
  readonly id: string;
  readonly type: string;
  /** Construct path below the stack, without the trailing L1 ids (`Resource`, `Default`). */
  readonly path: string[];
  readonly properties: Record<string, unknown>;
}

/** `from`'s property `property` (dotted, array indexes as numbers) names resource `to`. */
export interface Reference {
  readonly from: string;
  readonly to: string;
  readonly property: string;
}

/** What an identity's policy lets a resource that runs as it do to another: read from it, write to it, or start/stop it. */
export interface Access {
  /** The resource running with the permission (a function, a job, an application...). */
  readonly principal: string;
  readonly resource: string;
  readonly access: 'read' | 'write' | 'control';
}

export interface StackModel {
  /** The stack's construct id (the file name of its picture). */
  readonly id: string;
  /** Title of the picture. */
  readonly title: string;
  readonly resources: ModelResource[];
  readonly references: Reference[];
  readonly accesses: Access[];
}

export type Category = 'storage' | 'messaging' | 'compute' | 'catalog' | 'database' | 'monitoring';

/** How a drawn resource type looks. */
export interface Shown {
  /** Readable type, the node's second line ("Kinesis stream"). */
  readonly label: string;
  readonly category: Category;
  /** Drawn only when this holds (default: always). */
  readonly when?: (resource: ModelResource) => boolean;
  /** The node's first line, instead of its construct path's tail. */
  readonly name?: (resource: ModelResource) => string;
}

/**
 * A reference kind that means data flow: a resource of `type` receives data from what it references at a property
 * matching `from`, and sends data to what it references at a property matching `to`. When the resource itself is not
 * drawn (an S3 notification configuration, an SNS subscription, a DMS endpoint), the flow passes through it.
 */
export interface FlowRule {
  readonly type: string;
  readonly from?: RegExp;
  readonly to?: RegExp;
  /** Edge label: what the flow is ("object created", "subscription"). */
  readonly label?: string;
}

export interface Vocabulary {
  /** Resource types drawn as a node each. */
  readonly shown: Record<string, Shown>;
  /** Resource types drawn as one node per construct, with their count ("CloudWatch alarms (23)"). */
  readonly counted: Record<string, Shown>;
  readonly flows: FlowRule[];
  /**
   * A resource referenced by another at a matching property is plumbing, not drawn even if its type is (the handler
   * of a custom resource, a bucket that only receives access logs or query results); so are the functions and state
   * machines a plumbing resource references (a custom-resource provider's framework and its user functions).
   */
  readonly plumbingReference: RegExp;
  readonly plumbingClosure: Set<string>;
}

export interface DiagramNode {
  readonly id: string;
  /** Construct path of the node (for grouping). */
  readonly path: string[];
  /** First line, when not the construct path's tail (a Kubernetes workload's kind and name). */
  readonly name?: string;
  /** A count node: labelled by its type and count only. */
  readonly counted?: boolean;
  readonly type: string;
  readonly category: Category;
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
  readonly style: 'flow' | 'control';
}

export interface Diagram {
  readonly id: string;
  readonly title: string;
  readonly nodes: DiagramNode[];
  readonly edges: DiagramEdge[];
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The diagram of one stack: drawn nodes, and the flow between them with everything else folded away. */
export function extractDiagram(model: StackModel, vocabulary: Vocabulary): Diagram {
  const resources = new Map(model.resources.map((r) => [r.id, r]));

  // Plumbing: what custom resources, access logs or query results point at, and the functions behind them.
  const plumbing = new Set<string>();
  const queue = model.references.filter((ref) => vocabulary.plumbingReference.test(ref.property)).map((ref) => ref.to);
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (plumbing.has(id) || !resources.has(id)) continue;
    plumbing.add(id);
    for (const ref of model.references) {
      if (ref.from === id && vocabulary.plumbingClosure.has(resources.get(ref.to)?.type ?? '')) queue.push(ref.to);
    }
  }

  // Node of each resource: its own, its construct's count node, or none (folded).
  const nodes = new Map<string, DiagramNode>();
  const counts = new Map<string, number>();
  const nodeOf = new Map<string, string>();
  for (const r of [...model.resources].sort(byId)) {
    const shown = vocabulary.shown[r.type];
    if (shown && !plumbing.has(r.id) && (shown.when?.(r) ?? true)) {
      nodes.set(r.id, { id: r.id, path: r.path, name: shown.name?.(r), type: shown.label, category: shown.category });
      nodeOf.set(r.id, r.id);
      continue;
    }
    const counted = vocabulary.counted[r.type];
    if (counted) {
      // One node per construct holding them: the parent of each resource's own construct.
      const owner = r.path.slice(0, -1);
      const id = `${[...owner, counted.label].join('/')}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      if (!nodes.has(id)) nodes.set(id, { id, path: [...owner, counted.label], type: counted.label, category: counted.category, counted: true });
      nodeOf.set(r.id, id);
    }
  }
  for (const [id, n] of counts) nodes.set(id, { ...nodes.get(id)!, type: `${nodes.get(id)!.type} (${n})` });

  // Flow between all resources (drawn or not): from the flow rules, then from what identities may read and write.
  type Edge = DiagramEdge;
  const edges = new Map<string, Edge>();
  const add = (e: Edge) => {
    if (e.from === e.to) return;
    const key = `${e.from}\u0000${e.to}`;
    const existing = edges.get(key);
    if (!existing) edges.set(key, e);
    else edges.set(key, { ...existing, label: existing.label ?? e.label, style: existing.style === 'flow' || e.style === 'flow' ? 'flow' : 'control' });
  };
  const rulesByType = new Map<string, FlowRule[]>();
  for (const rule of vocabulary.flows) rulesByType.set(rule.type, [...(rulesByType.get(rule.type) ?? []), rule]);
  for (const ref of model.references) {
    for (const rule of rulesByType.get(resources.get(ref.from)?.type ?? '') ?? []) {
      if (rule.from?.test(ref.property)) add({ from: ref.to, to: ref.from, label: rule.label, style: 'flow' });
      if (rule.to?.test(ref.property)) add({ from: ref.from, to: ref.to, label: rule.label, style: 'flow' });
    }
  }
  for (const a of model.accesses) {
    if (!resources.has(a.principal) || !resources.has(a.resource)) continue;
    if (a.access === 'read') add({ from: a.resource, to: a.principal, style: 'flow' });
    else add({ from: a.principal, to: a.resource, style: a.access === 'write' ? 'flow' : 'control' });
  }

  // Map to nodes: edges of a folded resource are joined through it (in x out), in id order so labels are stable.
  let current = [...edges.values()].map((e) => ({ ...e, from: nodeOf.get(e.from) ?? e.from, to: nodeOf.get(e.to) ?? e.to }));
  const folded = [...new Set(current.flatMap((e) => [e.from, e.to]))].filter((id) => !nodes.has(id)).sort();
  for (const id of folded) {
    const ins = current.filter((e) => e.to === id && e.from !== id);
    const outs = current.filter((e) => e.from === id && e.to !== id);
    current = current.filter((e) => e.from !== id && e.to !== id);
    for (const i of ins) {
      for (const o of outs) {
        if (i.from !== o.to) current.push({ from: i.from, to: o.to, label: o.label ?? i.label, style: i.style === 'control' || o.style === 'control' ? 'control' : 'flow' });
      }
    }
  }
  edges.clear();
  for (const e of current) add(e);

  return {
    id: model.id,
    title: model.title,
    nodes: [...nodes.values()].sort(byId),
    edges: [...edges.values()].sort((a, b) => (a.from + '\u0000' + a.to < b.from + '\u0000' + b.to ? -1 : 1)),
  };
}
