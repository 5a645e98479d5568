"""kaoping_xlsx: 绩效考评 from Excel — template, check and score against a rules file."""

__version__ = "0.1.0"
