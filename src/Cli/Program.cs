// kvctl's commands are not written yet: say so and fail, rather than pretend to answer.
Console.Error.WriteLine("kvctl: not available yet: commands arrive with the client milestone");
return 2;
