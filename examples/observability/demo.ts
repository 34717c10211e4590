// The observability demo: route guide calls under async-grpc/observability's
// OpenTelemetryPlugin, spans and metrics printed to the console.
import { observe } from "./observe.js";

await observe((line) => console.log(line));
