"""Reading self-reflection exports (Microsoft Forms .xlsx/.csv, or JSON) into plain records."""
