/**
 * A `Diagram` as Graphviz DOT text (deterministic: nodes, clusters and edges in a fixed order), and DOT as SVG with
 * the WebAssembly build of Graphviz (@viz-js/viz: no system package, same output on every machine).
 */
import { Category, Diagram, DiagramNode } from './graph';

const FILL: Record<Category, string> = {
  storage: '#e8f3e8',
  messaging: '#fdf1dc',
  compute: '#e3eefb',
  catalog: '#f1e9f7',
  database: '#e5f5f4',
  monitoring: '#f4f4f4',
};

/** Nesting below which constructs are no longer boxes of their own (their path goes into the node's name). */
const MAX_CLUSTER_DEPTH = 3;

const LEGEND = 'arrow: data flows (notification, subscription, or what a runtime may read or write) · dashed: starts it\nnpm run diagrams, from the synthesized stack';

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

function nodeLine(node: DiagramNode, prefix: string[], indent: string): string {
  // The construct path below the node's box, a repeated id once ("Table/Table" reads "Table").
  const tail = node.path.slice(prefix.length).filter((segment, i, all) => i === 0 || segment !== all[i - 1]);
  const label = node.counted ? node.type : `${node.name ?? tail.join('/')}\n${node.type}`;
  return `${indent}${quote(node.id)} [label=${quote(label)}, fillcolor=${quote(FILL[node.category])}];`;
}

/** The nodes under `prefix`, grouped: a construct holding two or more drawn nodes is a box (chains of one child merged). */
function layout(nodes: DiagramNode[], prefix: string[], depth: number, indent: string, out: string[]): void {
  const groups = new Map<string, DiagramNode[]>();
  const here: DiagramNode[] = [];
  for (const node of nodes) {
    if (node.path.length <= prefix.length + 1 || depth >= MAX_CLUSTER_DEPTH) here.push(node);
    else groups.set(node.path[prefix.length], [...(groups.get(node.path[prefix.length]) ?? []), node]);
  }
  for (const group of groups.values()) if (group.length === 1) here.push(group[0]);
  for (const node of here.sort((a, b) => (a.id < b.id ? -1 : 1))) out.push(nodeLine(node, prefix, indent));
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    if (group.length === 1) continue;
    // Merge a chain of constructs with one child each into one box: "Pipeline/Cluster".
    const box = [...prefix, key];
    while (group.every((n) => n.path.length > box.length + 1 && n.path[box.length] === group[0].path[box.length])) box.push(group[0].path[box.length]);
    out.push(`${indent}subgraph ${quote(`cluster_${box.join('/')}`)} {`);
    out.push(`${indent}  label=${quote(box.slice(prefix.length).join('/'))}; style="rounded"; color="#999999"; fontsize=11;`);
    layout(group, box, depth + 1, indent + '  ', out);
    out.push(`${indent}}`);
  }
}

/** DOT text of a diagram, ending with a newline. */
export function toDot(diagram: Diagram): string {
  const out = [
    `digraph ${quote(diagram.id)} {`,
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=13, labelloc=t, pad=0.3, nodesep=0.25, ranksep=0.7, newrank=true, label=<${html(diagram.title)}<BR/><FONT POINT-SIZE="9">${LEGEND.split('\n').map(html).join('<BR/>')}</FONT>>];`,
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, penwidth=0.8];',
    '  edge [fontname="Helvetica", fontsize=9, color="#4d4d4d", arrowsize=0.7];',
  ];
  layout(diagram.nodes, [], 0, '  ', out);
  for (const edge of diagram.edges) {
    const attrs = [edge.label ? `label=${quote(edge.label)}` : '', edge.style === 'control' ? 'style=dashed' : ''].filter(Boolean);
    out.push(`  ${quote(edge.from)} -> ${quote(edge.to)}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

/** SVG of DOT text (Graphviz `dot` layout). */
export async function toSvg(dot: string): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(dot, { format: 'svg', engine: 'dot' });
}
