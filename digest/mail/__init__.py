"""Mail: MIME assembly and the delivery backends behind one small interface."""
