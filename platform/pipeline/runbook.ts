/**
 * Runbook links: every alarm links `<docsUrl>/runbooks/<runbook>.md#<section>`, a URL a person can click in an alarm
 * e-mail. `docsUrl` is one setting (cdk.json context `docsUrl`, checked in platform/config); this is its default.
 */
export const DEFAULT_DOCS_URL = 'https://github.com/stream-foundry/stream-foundry/blob/main/docs';

/** The URL of docs/runbooks/<runbook>.md, or of one of its sections. */
export function runbookUrl(docsUrl: string, runbook: string, section?: string): string {
  return `${docsUrl}/runbooks/${runbook}.md${section ? `#${section}` : ''}`;
}

/** GitHub's anchor of a Markdown heading: lower-case, punctuation dropped, spaces to "-". */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}
