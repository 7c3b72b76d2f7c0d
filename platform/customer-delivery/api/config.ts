import * as path from 'node:path';
import { z } from 'zod';
import { integer, optional, readEnv, required } from '../../handlers/env';
import { API_SERVICE, ENV, SCHEMAS_FOLDER } from './contract';

export interface ApiConfig {
  catalogPrefix: string;
  catalogTtlMs: number;
  schemasDir: string;
  kinesisEndpoint?: string;
  ssmEndpoint?: string;
}

const shape = {
  // A Parameter Store path: "/" then names, no trailing "/" (the customer's name is appended after one).
  [ENV.catalogPrefix]: required().refine((p) => /^\/[\w.-]+(\/[\w.-]+)*$/.test(p), {
    message: 'expected a Parameter Store path such as /stream-foundry/customers',
  }),
  [ENV.catalogTtlSeconds]: integer(0, 300, 60),
  [ENV.schemasDir]: optional(),
  [ENV.kinesisEndpoint]: optional(),
  [ENV.ssmEndpoint]: optional(),
};

/** Reads the function's configuration; throws one error naming every missing or malformed variable. */
export function loadConfig(env: NodeJS.ProcessEnv, handlerDir: string): ApiConfig {
  const c = readEnv(API_SERVICE, env, z.object(shape));
  return {
    catalogPrefix: c[ENV.catalogPrefix],
    catalogTtlMs: c[ENV.catalogTtlSeconds] * 1000,
    schemasDir: c[ENV.schemasDir] ?? path.join(handlerDir, SCHEMAS_FOLDER),
    kinesisEndpoint: c[ENV.kinesisEndpoint],
    ssmEndpoint: c[ENV.ssmEndpoint],
  };
}
