import { Testing } from 'cdktf';
import type { TerraformConstructor } from 'cdktf/lib/testing/matchers';

// cdktf's jest matchers: toHaveResource, toHaveResourceWithProperties, toHaveProviderWithProperties, ...
Testing.setupJest();

// cdktf ships these typings for `Matchers<R>`, which no longer merges with @types/jest 30's `Matchers<R, T>`.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    interface Matchers<R, T = {}> {
      toHaveResource(resourceConstructor: TerraformConstructor): R;
      toHaveResourceWithProperties(resourceConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
      toHaveDataSource(dataSourceConstructor: TerraformConstructor): R;
      toHaveDataSourceWithProperties(dataSourceConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
      toHaveProvider(providerConstructor: TerraformConstructor): R;
      toHaveProviderWithProperties(providerConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
    }
  }
}
