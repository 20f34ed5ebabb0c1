export interface TapFailure {
  path: string[];
  details: string[];
}
export declare class TapFailureCollector {
  push(chunk: string): void;
  failures(): TapFailure[];
}
export declare function failureReport(failures: TapFailure[], limit?: number): string[];
