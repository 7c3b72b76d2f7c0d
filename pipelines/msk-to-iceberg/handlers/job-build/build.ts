import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { customResource } from '../../../../platform/handlers/custom-resource';
import { BUILD_ENV, JobBuildProperties } from './contract';

/**
 * Builds the Flink job's JAR in CodeBuild during the deployment and waits for it, so the application is created (or
 * updated) only once its JAR exists. The JAR's key is derived from the source's hash: when it already exists (a
 * redeploy, a rollback to a source built before), nothing is rebuilt. Driven by the CDK Provider framework: `onEvent`
 * starts the build, `isComplete` polls it. Nothing is deleted: JARs stay in the artifact bucket (its lifecycle
 * removes old ones), since a rollback may need the previous one.
 */

/** CodeBuild's terminal failure states (BatchGetBuilds `buildStatus`). */
const FAILED = new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

export interface JobBuildDeps {
  readonly codebuild: Pick<CodeBuildClient, 'send'>;
  readonly s3: Pick<S3Client, 'send'>;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}

const name = z.string().min(1);
const schema = z.object({ ProjectName: name, SourceBucket: name, SourceKey: name, ArtifactBucket: name, ArtifactKey: name }) satisfies z.ZodType<JobBuildProperties>;

export function createJobBuild(deps: JobBuildDeps) {
  const log = deps.log ?? (() => undefined);

  /**
   * HEAD on the JAR. Only 404 means absent: S3 sends it to a caller allowed s3:ListBucket on the bucket, which the
   * construct grants this role unconditioned (job-build.ts). A 403 (which S3 sends instead when the caller may not
   * list, with no body: the SDK names it "Unknown") is a permission problem, reported as one rather than guessed at.
   */
  async function artifactExists(p: JobBuildProperties): Promise<boolean> {
    try {
      await deps.s3.send(new HeadObjectCommand({ Bucket: p.ArtifactBucket, Key: p.ArtifactKey }));
      return true;
    } catch (error) {
      if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return false;
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) {
        throw new Error(
          `HEAD s3://${p.ArtifactBucket}/${p.ArtifactKey} was denied (403): this role needs s3:GetObject on the key and an unconditioned s3:ListBucket on the bucket, for S3 to answer 404 when the JAR is not built yet`,
        );
      }
      throw error;
    }
  }

  // Create and Update build the source's JAR unless it exists; Delete keeps every JAR (a rollback may need it).
  return customResource({
    schema,
    async onCreate(p) {
      const physicalId = `s3://${p.ArtifactBucket}/${p.ArtifactKey}`;
      if (await artifactExists(p)) {
        log('JAR already built for this source', { artifact: physicalId });
        return { PhysicalResourceId: physicalId, Data: { BuildId: '' } };
      }
      const { build } = await deps.codebuild.send(
        new StartBuildCommand({
          projectName: p.ProjectName,
          sourceTypeOverride: 'S3',
          sourceLocationOverride: `${p.SourceBucket}/${p.SourceKey}`,
          environmentVariablesOverride: [
            { name: BUILD_ENV.artifactBucket, value: p.ArtifactBucket, type: 'PLAINTEXT' },
            { name: BUILD_ENV.artifactKey, value: p.ArtifactKey, type: 'PLAINTEXT' },
          ],
        }),
      );
      if (!build?.id) throw new Error(`CodeBuild did not start a build of ${p.ProjectName}`);
      log('build started', { build: build.id, artifact: physicalId });
      return { PhysicalResourceId: physicalId, Data: { BuildId: build.id } };
    },

    async isComplete(p, event) {
      const buildId = event.Data?.BuildId;
      if (event.RequestType === 'Delete' || !buildId) return true; // nothing deleted; or the JAR existed already
      const { builds = [] } = await deps.codebuild.send(new BatchGetBuildsCommand({ ids: [buildId] }));
      const build = builds[0];
      const status = build?.buildStatus ?? 'UNKNOWN';
      if (status === 'IN_PROGRESS') return false;
      if (status === 'SUCCEEDED') {
        if (!(await artifactExists(p))) throw new Error(`build ${buildId} succeeded but s3://${p.ArtifactBucket}/${p.ArtifactKey} does not exist`);
        log('build succeeded', { build: buildId });
        return true;
      }
      const failedPhase = build?.phases?.find((ph) => ph.phaseStatus && FAILED.has(ph.phaseStatus));
      const context = failedPhase?.contexts?.map((c) => c.message).filter(Boolean).join('; ');
      throw new Error(
        `build ${buildId} ${status}${failedPhase ? ` in phase ${failedPhase.phaseType}` : ''}${context ? `: ${context}` : ''}. Logs: ${build?.logs?.deepLink ?? 'see the CodeBuild project'}`,
      );
    },
  });
}
