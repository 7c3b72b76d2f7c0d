import { ITerraformDependable, TerraformProvider, TerraformResource, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';

/**
 * Waiting out Google Cloud's eventual consistency within one apply, with hashicorp/time's `time_sleep`
 * (https://registry.terraform.io/providers/hashicorp/time/latest/docs/resources/sleep).
 *
 * Newly enabled APIs ("If you enabled this API recently, wait a few minutes for the action to propagate to our systems
 * and retry", Google's accessNotConfigured error) and newly created service accounts ("Creation of service accounts is
 * eventually consistent, and that can lead to errors when you try to apply ACLs to service accounts immediately after
 * creation", the provider's google_service_account page) are not retried by the google provider. The provider's
 * own acceptance tests wait with time_sleep (magic-modules#10076).
 *
 * CDKTF 0.21 has no prebuilt binding for hashicorp/time in this project, so both blocks are declared here by hand:
 * the provider has no arguments and time_sleep takes `create_duration` and `triggers`.
 */

/** hashicorp/time, the version @cdktf/provider-time 11.0.1 (the last built for cdktf 0.21) was generated from. */
export const TIME_PROVIDER = { source: 'hashicorp/time', version: '0.13.1' } as const;

export class TimeProvider extends TerraformProvider {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      terraformResourceType: 'time',
      terraformGeneratorMetadata: { providerName: 'time', providerVersion: TIME_PROVIDER.version },
      terraformProviderSource: TIME_PROVIDER.source,
    });
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return {};
  }
}

export interface TimeSleepProps {
  /** How long creating the resource waits, e.g. "60s". */
  readonly createDuration: string;
  /** What the wait follows. */
  readonly dependsOn: ITerraformDependable[];
  /** Values whose change replaces the resource, i.e. waits again. */
  readonly triggers?: Record<string, string>;
}

export class TimeSleep extends TerraformResource {
  constructor(
    scope: Construct,
    id: string,
    private readonly props: TimeSleepProps,
  ) {
    super(scope, id, {
      terraformResourceType: 'time_sleep',
      terraformGeneratorMetadata: { providerName: 'time', providerVersion: TIME_PROVIDER.version },
      provider: stackTimeProvider(scope),
      dependsOn: props.dependsOn,
    });
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { create_duration: this.props.createDuration, triggers: this.props.triggers };
  }
}

/** The stack's TimeProvider, created at the stack's root the first time a TimeSleep needs one. */
function stackTimeProvider(scope: Construct): TimeProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.findAll().find((c): c is TimeProvider => c instanceof TimeProvider);
  return existing ?? new TimeProvider(stack, 'time');
}
