import { createHash } from 'crypto';

/** 8 hex characters that tell long names apart once they are shortened to fit a length limit. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** A service account id (6-30 characters) that stays readable and unique when the name is long. */
export function accountId(prefix: string, name: string): string {
  const id = `${prefix}${name}`;
  return id.length <= 30 ? id : `${id.slice(0, 21).replace(/-+$/, '')}-${shortHash(name)}`;
}
