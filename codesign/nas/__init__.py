"""The architecture side of co-design: the NASRec search spaces and subnet specs, the
operators, the execution plan of a subnet, the weight-sharing supernet, the standalone
subnet it extracts, and the FLOPs and parameter counts of a subnet."""
