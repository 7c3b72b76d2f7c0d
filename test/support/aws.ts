import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { enableComplianceChecks } from '../../platform/compliance';
import { readCdkJsonContext } from '../../platform/config';

/**
 * An App with this project's cdk.json context (feature flags and configuration) and the compliance gate, as
 * `bin/aws.ts` builds it. `context` overrides settings, as `-c key=value` does.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  const app = new App({ context: { ...readCdkJsonContext(), ...context } });
  enableComplianceChecks(app);
  return app;
}

/** A stack in a `testApp`, for construct tests. */
export function testStack(context: Record<string, unknown> = {}): Stack {
  return new Stack(testApp(context), 'TestStack');
}

interface ValidationReport {
  pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/**
 * Synthesizes the app with cdk-nag's AwsSolutions rules and returns every unacknowledged finding as
 * "RULE at construct/path" (empty when compliant), so a failing test names what to fix.
 */
export function complianceFindings(scope: IConstruct): string[] {
  const app = scope.node.root as App;
  try {
    app.synth({ force: true });
    return [];
  } catch (error) {
    const reportFile = path.join(app.outdir, 'validation-report.json');
    if (!fs.existsSync(reportFile)) throw error;
    const report: ValidationReport = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    return report.pluginReports.flatMap((plugin) =>
      plugin.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)),
    );
  }
}
