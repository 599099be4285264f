#!/bin/sh
exec python -m ${{ values.name }}
