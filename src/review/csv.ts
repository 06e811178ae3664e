/**
 * CSV of the dashboard's figures (RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a
 * comma, quote or line break). A text field that a spreadsheet would read as a formula (=, +, -, @, tab,
 * carriage return first) is prefixed with an apostrophe: recorded text (a reason code, an order reference)
 * comes from clients and must not run in a reviewer's spreadsheet (OWASP CSV injection).
 */

export type CsvValue = string | number | null | undefined;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? String(value) : '';
  }
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** A whole table: the header, then one line per row. */
export function csvTable(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return csvLine(header) + rows.map(csvLine).join('');
}
