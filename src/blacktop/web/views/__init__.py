"""The portal's pages, one module per area; each holds a router whose routes render templates."""
