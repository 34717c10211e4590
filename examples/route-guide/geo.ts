// Geometry for the route guide: points are latitude/longitude in degrees * 1e7 (E7),
// as in the proto.
import type { Point, Rectangle } from "./gen/routeguide/route_guide_pb.js";

const E7 = 1e7;
const EARTH_RADIUS_METRES = 6_371_000;

/** Degrees to the E7 integers the proto uses. */
export function toE7(degrees: number): number {
  return Math.round(degrees * E7);
}

/** "(40.78384, -74.61438)" */
export function formatPoint(point: Point | undefined): string {
  if (point === undefined) return "(no location)";
  return `(${(point.latitude / E7).toFixed(5)}, ${(point.longitude / E7).toFixed(5)})`;
}

/** True for a latitude within +/-90 and a longitude within +/-180 degrees. */
export function isValidPoint(point: Point): boolean {
  return Math.abs(point.latitude) <= 90 * E7 && Math.abs(point.longitude) <= 180 * E7;
}

export function sameLocation(a: Point | undefined, b: Point | undefined): boolean {
  return a !== undefined && b !== undefined && a.latitude === b.latitude && a.longitude === b.longitude;
}

/** Whether `point` lies in `rect`, whose corners `lo` and `hi` may be any two opposite ones. */
export function inRectangle(rect: Rectangle, point: Point | undefined): boolean {
  const { lo, hi } = rect;
  if (lo === undefined || hi === undefined || point === undefined) return false;
  const [south, north] = [Math.min(lo.latitude, hi.latitude), Math.max(lo.latitude, hi.latitude)];
  const [west, east] = [Math.min(lo.longitude, hi.longitude), Math.max(lo.longitude, hi.longitude)];
  return point.latitude >= south && point.latitude <= north && point.longitude >= west && point.longitude <= east;
}

/** Great-circle distance in metres (the haversine formula, as in gRPC's route guide). */
export function distanceMetres(a: Point, b: Point): number {
  const rad = (e7: number) => ((e7 / E7) * Math.PI) / 180;
  const dLat = rad(b.latitude) - rad(a.latitude);
  const dLon = rad(b.longitude) - rad(a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_METRES * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
}
