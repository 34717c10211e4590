// The route guide's feature database: invented landmarks in the hills of north-west
// New Jersey (any resemblance to real addresses is accidental).
import { create } from "@bufbuild/protobuf";
import { FeatureSchema, type Feature } from "./gen/routeguide/route_guide_pb.js";
import { toE7 } from "./geo.js";

const RAW: readonly (readonly [name: string, latitude: number, longitude: number])[] = [
  ["Quarry Hill Lookout, 4 Old Mine Road, Hollis Township, NJ", 40.9141, -74.9226],
  ["Ridgeview Fire Tower, Summit Trail, Ashford, NJ", 40.8833, -74.5519],
  ["Millbrook Covered Bridge, Millbrook Lane, Ashford, NJ", 40.8512, -74.6027],
  ["Larkspur Orchard Barn, 210 Orchard Road, Fenwick, NJ", 40.8268, -74.7734],
  ["Old Stone Schoolhouse, 18 Academy Street, Fenwick, NJ", 40.8104, -74.7391],
  ["Heron Marsh Boardwalk, Marsh Road, Pellham, NJ", 40.7953, -74.4482],
  ["Cobbler's Row Historic District, Main Street, Pellham, NJ", 40.7839, -74.6144],
  ["Whitlock Mill Ruins, 77 Mill Race Road, Bexley, NJ", 40.7712, -74.6865],
  ["Bexley Village Green, Church Street, Bexley, NJ", 40.7608, -74.6521],
  ["Signal Rock Overlook, Ridge Trail, Bexley, NJ", 40.7487, -74.5902],
  ["Saint Brendan's Chapel, 3 Chapel Hill Road, Warrick, NJ", 40.7321, -74.8188],
  ["Warrick Canal Lock 9, Towpath Road, Warrick, NJ", 40.7194, -74.7713],
  ["Foxglove Meadow Preserve, Meadow Lane, Corliss, NJ", 40.7055, -74.6283],
  ["Corliss Railway Depot, 1 Depot Square, Corliss, NJ", 40.6926, -74.5677],
  ["Blackberry Hollow Farm Stand, 455 Hollow Road, Corliss, NJ", 40.6814, -74.6998],
  ["Tanner's Pond Picnic Grove, Pond Road, Dunmore, NJ", 40.6683, -74.8412],
  ["Dunmore Free Library, 62 Elm Avenue, Dunmore, NJ", 40.6551, -74.7957],
  ["Iron Forge Historic Site, Forge Road, Dunmore, NJ", 40.6432, -74.7351],
  ["Kestrel Ridge Trailhead, Ridge Road, Galway, NJ", 40.6315, -74.6110],
  ["Galway Town Hall, 100 Market Street, Galway, NJ", 40.6196, -74.5524],
  ["Sycamore Falls, Falls Road, Galway, NJ", 40.6074, -74.9036],
  ["Harlow Creamery, 38 Dairy Lane, Harlow, NJ", 40.5942, -74.8463],
  ["Harlow Grange Hall, 5 Grange Road, Harlow, NJ", 40.5818, -74.7820],
  ["Pinecrest Observatory, Observatory Road, Harlow, NJ", 40.5697, -74.7166],
  ["Wren's Crossing Footbridge, River Road, Ivyton, NJ", 40.5573, -74.6479],
  ["Ivyton Opera House, 9 Theatre Street, Ivyton, NJ", 40.5449, -74.5861],
  ["Mossy Glen Campground, Glen Road, Ivyton, NJ", 40.5326, -74.5238],
  ["Juniper Lake Boathouse, Lakeshore Drive, Kellam, NJ", 40.5203, -74.9512],
  ["Kellam Windmill, 240 Windmill Road, Kellam, NJ", 40.5071, -74.8897],
  ["Lantern Hill Cemetery, Cemetery Road, Kellam, NJ", 40.4948, -74.8233],
  ["Moreland Toll House, 2 Turnpike Road, Moreland, NJ", 40.4824, -74.7609],
  ["Copper Kettle Inn, 115 Coach Road, Moreland, NJ", 40.4702, -74.6975],
  ["Northfield Aqueduct, Canal Road, Northfield, NJ", 40.4579, -74.6348],
  ["Osprey Point Beach, Shore Road, Northfield, NJ", 40.4453, -74.5712],
  ["Orrin's Sugar Shack, 71 Maple Road, Oakhurst, NJ", 40.4327, -74.5086],
  ["Oakhurst Carousel, Park Avenue, Oakhurst, NJ", 40.4201, -74.9718],
  ["Peddler's Bridge, Bridge Street, Oakhurst, NJ", 40.4077, -74.9105],
  ["Quill & Ink Printing Museum, 8 Press Street, Quinby, NJ", 40.3952, -74.8472],
  ["Quinby Lighthouse, Harbor Road, Quinby, NJ", 40.3826, -74.7844],
  ["Rosewood Arboretum, 300 Garden Road, Quinby, NJ", 40.3701, -74.7219],
  ["Stillwater Dam, Reservoir Road, Rutland, NJ", 40.3575, -74.6590],
  ["Thistle Creek Waterwheel, Creek Road, Rutland, NJ", 40.3448, -74.5963],
];

/** The features the server knows, in the order ListFeatures scans them. */
export const FEATURES: readonly Feature[] = RAW.map(([name, latitude, longitude]) =>
  create(FeatureSchema, { name, location: { latitude: toE7(latitude), longitude: toE7(longitude) } }),
);
