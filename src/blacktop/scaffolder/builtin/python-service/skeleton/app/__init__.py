"""${{ values.serviceName }}: ${{ values.description | replace("\n", " ") | trim }}"""

__version__ = "0.1.0"
