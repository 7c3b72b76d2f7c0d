/**
 * The contract between the MskToIceberg construct (pipelines/msk-to-iceberg/construct/job-build.ts) and this handler: the
 * custom resource's properties, and the environment the CodeBuild project's build receives.
 */
export interface JobBuildProperties {
  readonly ProjectName: string;
  /** The job source (an S3 asset zip: `pipelines/msk-to-iceberg/job/` and `schemas/`). */
  readonly SourceBucket: string;
  readonly SourceKey: string;
  /** Where the build puts the JAR: a key derived from the source's hash, so a new source is a new build. */
  readonly ArtifactBucket: string;
  readonly ArtifactKey: string;
}

/** Environment variables of the build (the buildspec uploads the JAR to s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY). */
export const BUILD_ENV = { artifactBucket: 'ARTIFACT_BUCKET', artifactKey: 'ARTIFACT_KEY' } as const;
