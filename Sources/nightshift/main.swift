import Support
print(NightshiftVersion.current)
