global using Xunit;
global using MedTransfer.Testing;
