// The npm package ships no types; test/metrics/prometheus_parse.ts gives its output a shape.
declare module 'parse-prometheus-text-format' {
  export default function parseText(text: string): unknown;
}
