/**
 * Reads a Prometheus text exposition, as a scraper would, for tests that count what they caused.
 */
export interface Scrape {
  text: string;
  /** Sample values by series (`name{label="value",...}` as exposed). */
  series: Map<string, number>;
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`scrape of ${url} answered ${res.status}`);
  const text = await res.text();
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return { text, series };
}

/** How much a series grew between two scrapes (a series first seen counts from 0). */
export function delta(before: Scrape, after: Scrape, series: string): number {
  return (after.series.get(series) ?? 0) - (before.series.get(series) ?? 0);
}
