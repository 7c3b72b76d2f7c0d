import { Construct } from 'constructs';
import * as functions from '../../../platform/functions';
import { fromRoot } from '../../../platform/paths';

/** The platform's HandlerProvider for a handler of this pipeline (pipelines/msk-to-iceberg/handlers/<handler>/index.ts). */
export class HandlerProvider extends functions.HandlerProvider {
  constructor(scope: Construct, id: string, props: Omit<functions.HandlerProviderProps, 'entry'> & { handler: string }) {
    super(scope, id, { ...props, entry: fromRoot('pipelines', 'msk-to-iceberg', 'handlers', props.handler, 'index.ts') });
  }
}
