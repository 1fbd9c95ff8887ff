/**
 * One line of the access log in the Combined Log Format that Apache and
 * nginx write (`combined`), so that the usual log tools read it:
 *   HOST - - [04/Dec/2026:07:30:00 +0000] "GET /index.json HTTP/1.1" 200 1234 "REFERER" "AGENT"
 * Request text is escaped (quotes, backslashes, control bytes as \xHH), as
 * nginx does, so that a request cannot forge a line.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface AccessRecord {
  remote: string;
  time: Date;
  method: string;
  target: string;
  httpVersion: string;
  status: number;
  bytes: number;
  referer: string | undefined;
  userAgent: string | undefined;
}

function escapeField(text: string): string {
  return text.replace(/["\\\x00-\x1f\x7f-\uffff]/g, (char) => {
    const code = char.charCodeAt(0);
    if (code > 0x7f)
      return Buffer.from(char, 'utf8').reduce(
        (out, byte) => `${out}\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`,
        '',
      );
    return `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
  });
}

function clfTime(time: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(time.getUTCDate())}/${MONTHS[time.getUTCMonth()]}/${time.getUTCFullYear()}:${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())} +0000`;
}

export function accessLine(record: AccessRecord): string {
  const request = escapeField(`${record.method} ${record.target} HTTP/${record.httpVersion}`);
  const optional = (value: string | undefined) => (value === undefined || value === '' ? '-' : escapeField(value));
  return `${record.remote} - - [${clfTime(record.time)}] "${request}" ${record.status} ${record.bytes === 0 ? '-' : record.bytes} "${optional(record.referer)}" "${optional(record.userAgent)}"`;
}
