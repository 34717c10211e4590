export interface RunningServer {
  readonly port: number;
  stop(): Promise<void>;
}
