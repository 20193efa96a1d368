"""mla-labs: offline, graded AWS labs on moto for the MLA-C01 exam."""
