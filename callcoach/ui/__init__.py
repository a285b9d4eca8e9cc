"""The live panel (Textual): the only package that imports Textual."""
