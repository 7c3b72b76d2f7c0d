import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { App as TerraformApp, TerraformStack } from 'cdktf';
import { awsStackModel, AWS_VOCABULARY } from './aws';
import { toDot, toSvg } from './dot';
import { gcpStackModel, GCP_VOCABULARY } from './gcp';
import { Diagram, extractDiagram } from './graph';
import { buildAwsApp } from '../aws-app';
import { parseConfig, readCdkJsonContext } from '../config';
import { buildGcpApp } from '../gcp-app';
import { PROJECT_ROOT } from '../paths';

export { extractDiagram } from './graph';
export type { Diagram, DiagramEdge, DiagramNode, StackModel, Vocabulary } from './graph';
export { awsStackModel, awsTemplateModel, AWS_VOCABULARY, DATA_ACTIONS } from './aws';
export { gcpStackModel, terraformModel, GCP_VOCABULARY, DATA_ROLES } from './gcp';
export { toDot, toSvg } from './dot';

/** Where `npm run diagrams` writes `<stack id>.dot` and `<stack id>.svg` per stack. */
export const DIAGRAMS_DIR = path.join(PROJECT_ROOT, 'docs', 'diagrams');

/**
 * The diagram of every stack of `app`, after synthesizing it (templates are read from the cloud assembly). A stack in
 * a stage (a deployment pipeline's environment) is named by its path: `<stage>-<stack id>`.
 */
export function awsDiagrams(app: App): Diagram[] {
  app.synth();
  return app.node
    .findAll()
    .filter((c): c is Stack => Stack.isStack(c))
    .map((stack) => {
      const artifact = Stage.of(stack)!.synth().getStackArtifact(stack.artifactId);
      const id = stack.node.path.replace(/\//g, '-');
      return extractDiagram(awsStackModel(stack, artifact.template, id, `${id} (AWS): ${stack.stackName}`), AWS_VOCABULARY);
    });
}

/** The diagram of every stack of a CDK for Terraform app. */
export function gcpDiagrams(app: TerraformApp): Diagram[] {
  return app.node.children
    .filter((c): c is TerraformStack => c instanceof TerraformStack)
    .map((stack) => extractDiagram(gcpStackModel(stack, `${stack.node.id} (Google Cloud, CDK for Terraform)`), GCP_VOCABULARY));
}

/**
 * Every stack's diagram, from both apps as `bin/aws.ts` and `bin/gcp.ts` build them from cdk.json (context overrides
 * on top), offline: asset bundling is skipped (a diagram needs no code), nothing is written outside a temporary
 * cloud assembly.
 */
export function projectDiagrams(context: Record<string, unknown> = {}): Diagram[] {
  const outdir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'cdk.out-diagrams-'));
  try {
    const app = new App({ outdir, context: { ...readCdkJsonContext(), ...context, 'aws:cdk:bundling-stacks': [] } });
    const config = parseConfig(app.node.getAllContext());
    buildAwsApp(app, config);
    const gcp = new TerraformApp({ outdir: path.join(outdir, 'cdktf'), skipValidation: true });
    buildGcpApp(gcp, config);
    return [...awsDiagrams(app), ...gcpDiagrams(gcp)];
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** File name -> content of each picture: `<stack id>.dot` (the source) and `<stack id>.svg` (rendered from it). */
export async function diagramFiles(diagrams: Diagram[], svg = true): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const diagram of diagrams) {
    const dot = toDot(diagram);
    files[`${diagram.id}.dot`] = dot;
    if (svg) files[`${diagram.id}.svg`] = await toSvg(dot);
  }
  return files;
}
